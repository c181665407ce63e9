"""Page routes, one module per audience: auth (everyone), participant, clinic, pharmacy."""
