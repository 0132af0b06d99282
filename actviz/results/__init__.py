"""One contract for the results of ``actviz compare``: the store's schema, reading, validation, labels.

Below both :mod:`actviz.bench` (which writes stores and computes their statistics) and
:mod:`actviz.render` (which draws and prints them): each reads a store only through
here, so a store accepted by one command is accepted by all, and a run has one name.

* :mod:`~actviz.results.labels` — run keys, training configurations and their labels;
* :mod:`~actviz.results.schema` — the document's shape, checks and upgrades of older schemas;
* :mod:`~actviz.results.store` — :class:`Store` (read, merge, atomic write) and :func:`load`;
* :mod:`~actviz.results.views` — runs grouped by configuration and label, per-epoch series.

The layout of ``results.json`` is described in ``docs/design.md``.
"""

from actviz.results.labels import DEFAULTS, config_label, network_label, run_key, training_config
from actviz.results.schema import FINISHED, PLOTS, RESULTS, SCHEMA_VERSION, check_run
from actviz.results.store import Store, load, now, remove_plots
from actviz.results.views import by_config, by_label, completed, epoch_series, mean_of

__all__ = [
    "DEFAULTS", "FINISHED", "PLOTS", "RESULTS", "SCHEMA_VERSION", "Store", "by_config", "by_label", "check_run",
    "completed", "config_label", "epoch_series", "load", "mean_of", "network_label", "now", "remove_plots", "run_key",
    "training_config",
]
