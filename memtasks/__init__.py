"""Memory tasks (N-parity, N-DMS) as Gymnasium environments."""
