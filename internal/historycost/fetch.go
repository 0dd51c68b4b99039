package historycost

import (
	"context"
	"fmt"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// maxRuns bounds how far Fetch follows a continue-as-new chain back.
const maxRuns = 1000

// Fetch reads every run of the workflow workflowID, from the latest back to
// the first along each run's ContinuedExecutionRunId, and returns their
// summed cost.
func Fetch(ctx context.Context, c client.Client, workflowID string) (Cost, error) {
	var total Cost
	runID := "" // the latest run
	for range maxRuns {
		events, err := runHistory(ctx, c, workflowID, runID)
		if err != nil {
			return Cost{}, err
		}
		total = total.Add(Count(events))
		if len(events) == 0 {
			return total, nil
		}
		runID = events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if runID == "" {
			return total, nil
		}
	}
	return Cost{}, fmt.Errorf("%s: more than %d runs", workflowID, maxRuns)
}

func runHistory(ctx context.Context, c client.Client, workflowID, runID string) ([]*historypb.HistoryEvent, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s (run %q): %w", workflowID, runID, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// FetchAll fetches the cost of each workflow, at most concurrency at a time.
// It returns the costs it could read and the first error, if any.
func FetchAll(ctx context.Context, c client.Client, workflowIDs []string, concurrency int) ([]Cost, error) {
	var (
		mu       sync.Mutex
		costs    = make([]Cost, 0, len(workflowIDs))
		firstErr error
		wg       sync.WaitGroup
	)
	ids := make(chan string)
	for range max(concurrency, 1) {
		wg.Go(func() {
			for id := range ids {
				cost, err := Fetch(ctx, c, id)
				mu.Lock()
				if err != nil {
					firstErr = cmpErr(firstErr, err)
				} else {
					costs = append(costs, cost)
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range workflowIDs {
		if ctx.Err() != nil {
			break
		}
		ids <- id
	}
	close(ids)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return costs, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
