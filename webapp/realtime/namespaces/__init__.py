"""The four Socket.IO namespaces, each thin over the services, on one base."""
