"""Small programs the integration tests run in processes of their own."""
