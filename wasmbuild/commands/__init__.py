"""The sub-commands: one module per command, listed in `wasmbuild.cli.COMMANDS`."""
