"""omniroute: gRPC service, conversion between protobuf and the engine model, CLI."""
