"""AWSomeShop infrastructure as code (CDK for Terraform, Python)."""
