"""What users do with ensembles: validate against the record, sweep, sensitivity,
discovery, calibration and counterfactuals."""
