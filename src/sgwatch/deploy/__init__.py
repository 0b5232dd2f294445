"""Deploy stage: the CloudFormation template (pure builder), the Lambda package, the deployer and doctor."""
