"""Analysis of runs and of the models' matrices: closed-form spectra, eigenpaths, complexity."""
