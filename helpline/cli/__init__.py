"""The ``flask --app helpline ...`` commands, a thin layer over the modules doing the work.

- ``check``: :mod:`helpline.check` on the configured ``flows/`` and ``content/``.
- ``crisis-eval``: :mod:`helpline.crisis_eval`, crisis recognition measured on a corpus.
- ``crisis-train``: :mod:`helpline.crisis_model`, the second reader trained on its tuning parts.
- ``simulate sms|voice``: :mod:`helpline.simulate`, a conversation in the terminal.
- ``reps add|remove|list|on|off|passcode``: the roster of representatives (:mod:`helpline.reps`).
- ``staff add|remove``: staff console accounts (:mod:`helpline.staff.cli`).
- ``db upgrade|revision``: schema migrations (:mod:`helpline.migrate`).
- ``purge --older-than 30d``: retention (:mod:`helpline.retention`).
- ``worker``: the task queue's consumer (:mod:`helpline.worker`), the Procfile's ``worker:``.

The first four are in :mod:`~helpline.cli.content`, ``reps`` in :mod:`~helpline.cli.reps`,
the last three in :mod:`~helpline.cli.data`; :mod:`~helpline.cli.guards` stops a command
the settings or content cannot run.
"""
from __future__ import annotations

from .content import check_command, crisis_eval_command, crisis_train_command, simulate_command
from .data import db_group, purge_command, worker_command
from .guards import CONFIG_ERROR, LOAD_ERROR, SETTINGS_ERROR, SettingsError, require_helpline
from .reps import reps_group

__all__ = ["CONFIG_ERROR", "LOAD_ERROR", "SETTINGS_ERROR", "SettingsError", "register", "require_helpline"]


def register(app) -> None:
    from ..staff.cli import staff_cli

    for command in (check_command, crisis_eval_command, crisis_train_command, simulate_command,
                    reps_group, staff_cli, db_group, purge_command, worker_command):
        app.cli.add_command(command)
