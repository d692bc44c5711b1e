"""The catalog: halls, ranks, productions, events, prices, payment methods, catalog loading."""
