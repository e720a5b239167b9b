// Package deploy holds the deployment of the Lambda: template.yaml, an
// AWS SAM template (the function, its DynamoDB or Kinesis stream mapping,
// least-privilege IAM per sink, the Firehose delivery stream with Parquet
// conversion and dynamic partitioning, the Glue database and a sample
// table), and config.example.yaml, a commented configuration. The package
// has no code; its tests parse both files and check what a deployment
// relies on, including the exact IAM actions granted per sink.
//
// Example (from the repository root):
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags lambda.norpc \
//	  -o dist/lambda/bootstrap ./cmd/ddblake-lambda
//	sam deploy --template-file deploy/template.yaml --stack-name ddblake \
//	  --resolve-s3 --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
//	  --parameter-overrides LakeBucket=my-lake StreamArn=arn:aws:dynamodb:...
package deploy
