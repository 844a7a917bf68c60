package load

import (
	"fmt"
	"io"
	"time"
)

// Prices are AWS list prices in US dollars for us-east-1.
//
// NOTE: these are list prices as of December 2026, from memory of the AWS
// pricing pages (DynamoDB on-demand after its November 2024 cut), without
// free tiers. They could not be checked from this machine, so verify them
// before relying on the dollar figures.
type Prices struct {
	SQSPerMillionRequests     float64 // standard queue; each 64 KB chunk of a payload bills as one request
	DynamoDBPerMillionWrite   float64 // on-demand write request units
	DynamoDBPerMillionRead    float64 // on-demand read request units
	LambdaPerMillionRequests  float64
	LambdaPerGBSecond         float64 // arm64
	APIGatewayPerMillion      float64 // HTTP API, first 300 million requests a month
	SecretsManagerPer10KCalls float64
	CloudWatchLogsPerGBIngest float64 // standard log class
	PricesAsOf                string
}

// ListPrices are the prices the cost report uses.
var ListPrices = Prices{
	SQSPerMillionRequests:     0.40,
	DynamoDBPerMillionWrite:   0.625,
	DynamoDBPerMillionRead:    0.125,
	LambdaPerMillionRequests:  0.20,
	LambdaPerGBSecond:         0.0000133334,
	APIGatewayPerMillion:      1.00,
	SecretsManagerPer10KCalls: 0.05,
	CloudWatchLogsPerGBIngest: 0.50,
	PricesAsOf:                "December 2026, from memory of the AWS pricing pages",
}

// FunctionUsage is the invocations and compute of one function during a run.
type FunctionUsage struct {
	Name     string
	MemoryMB int // MemorySize in template.yaml
	InvocationStats
}

// GBSeconds returns the function's compute in GB-seconds from the measured
// durations, rounded up to the millisecond as Lambda bills them.
func (f FunctionUsage) GBSeconds() float64 {
	billed := f.Duration.Round(time.Millisecond).Seconds()
	return billed * float64(f.MemoryMB) / 1024
}

// CostLine is one item of the cost per million events.
type CostLine struct {
	Item                    string
	PerThousand             float64 // units per 1,000 events
	Unit                    string
	DollarsPerMillionEvents float64
}

// Cost turns the counts of a run into dollars per million events.
func Cost(prices Prices, events int, calls CallCounts, functions []FunctionUsage, apiRequests int) []CostLine {
	if events == 0 {
		return nil
	}
	perEvent := func(n float64) float64 { return n / float64(events) }
	line := func(item, unit string, units, pricePerUnit float64) CostLine {
		return CostLine{Item: item, Unit: unit, PerThousand: perEvent(units) * 1000,
			DollarsPerMillionEvents: perEvent(units) * 1e6 * pricePerUnit}
	}

	lines := []CostLine{
		line("API Gateway HTTP API", "requests", float64(apiRequests), prices.APIGatewayPerMillion/1e6),
		line("SQS", "requests", float64(calls.Total("SQS")), prices.SQSPerMillionRequests/1e6),
		line("DynamoDB writes", "WRU", calls.WriteUnits, prices.DynamoDBPerMillionWrite/1e6),
		line("DynamoDB reads", "RRU", calls.ReadUnits, prices.DynamoDBPerMillionRead/1e6),
		line("Secrets Manager", "calls", float64(calls.Total("SecretsManager")), prices.SecretsManagerPer10KCalls/1e4),
	}
	var invocations, gbSeconds float64
	var logBytes int64
	for _, f := range functions {
		invocations += float64(f.Invocations)
		gbSeconds += f.GBSeconds()
		logBytes += f.LogBytes
		lines = append(lines, line("Lambda "+f.Name+" compute", "GB-s", f.GBSeconds(), prices.LambdaPerGBSecond))
	}
	lines = append(lines,
		line("Lambda requests", "invocations", invocations, prices.LambdaPerMillionRequests/1e6),
		line("CloudWatch Logs ingestion", "MB", float64(logBytes)/1e6, prices.CloudWatchLogsPerGBIngest/1e3),
	)
	return lines
}

// TotalCost returns the sum of the lines in dollars per million events.
func TotalCost(lines []CostLine) float64 {
	total := 0.0
	for _, l := range lines {
		total += l.DollarsPerMillionEvents
	}
	return total
}

// PrintCost writes the cost lines as a table.
func PrintCost(w io.Writer, lines []CostLine) {
	fmt.Fprintf(w, "  %-28s %14s %-12s %s\n", "item", "per 1,000 ev", "unit", "$ per million events")
	for _, l := range lines {
		fmt.Fprintf(w, "  %-28s %14.3f %-12s %.4f\n", l.Item, l.PerThousand, l.Unit, l.DollarsPerMillionEvents)
	}
	fmt.Fprintf(w, "  %-28s %14s %-12s %.4f\n", "total", "", "", TotalCost(lines))
}
