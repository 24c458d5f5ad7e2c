"""The defaults every face shows (kept light: ``diplosim --help`` imports it)."""

DEFAULT_SEED = 20190822
ENGINES = ("vector", "agents")

MAX_SEED = 2**63 - 1  # seeds are non-negative 64-bit integers (NumPy refuses negative ones)
MAX_RUNS = 10_000_000  # runs of one ensemble
MAX_MEMBERS = 1_000_000  # members per sweep point or Saltelli point
MAX_SAMPLES = 1_000_000  # N of a sweep design or of Saltelli's scheme
MAX_LEVELS = 1000  # grid points per axis, Morris levels
MAX_POINTS = 1_000_000  # points of one sweep design (its memory), whatever the method
CALIBRATION_RUNS = (20, 20_000)  # runs per episode and design point of calibrate
CALIBRATION_DESIGN_LOG2 = (2, 12)  # calibrate's design: 2**N points
MAX_POINTS_DISCOVER = 100_000  # points of one PRIM discovery (its table stays in memory)
# Estimated work refused without --allow-large (sim.model.cost: about 10 to 130 ns a unit on
# the compiled engine, so minutes to tens of minutes of one core).
MAX_WORK = 10**10


def bound_text(value: int) -> str:
    return "2**63-1" if value == MAX_SEED else f"{value:,}"
