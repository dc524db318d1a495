"""Training: the loop (`trainer`), the data at its boundary (`data_adapter`), what a step trains and
regularizes (`plan`), and what `compile` sets up (`compile_utils`)."""
