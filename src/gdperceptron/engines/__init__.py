"""Engines that run a generalized perceptron: weight rules, the run loop, the exact reduced
simulation, run configurations and their execution."""
