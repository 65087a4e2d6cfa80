"""Inference backends behind one small contract (`backends.base`); loaded lazily by name (`backends.registry`)."""
