"""Small programs the consent tests run in processes of their own."""
