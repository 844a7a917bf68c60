// Command minimal is the smallest aws-lambda-go function: the baseline that
// the relay's cold starts are compared against.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func() error { return nil })
}
