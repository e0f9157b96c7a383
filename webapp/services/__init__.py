"""The work, grouped by what users name; views and namespaces stay thin."""
