"""The builds :mod:`derive.pipeline` runs: their options and result, the stages they share, and the
builds of a sheet of several exercises and of an exam."""
