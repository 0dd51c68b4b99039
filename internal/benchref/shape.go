// Package benchref holds the bench's reference arm: a bare workflow that
// makes as many no-op activity tasks, local activities and workflow tasks as
// one order did, so `orderflow bench` can say how close orders come to what
// Temporal itself does on the same server and in the same worker set-up.
//
// The shape is not fixed here: ShapeOf derives it from the orders' measured
// cost (internal/historycost), Run runs the bare workflows, and
// Result.ReadCost reads their own histories back, so a report shows what
// the bare workflow actually cost beside what it was built to cost.
package benchref

import (
	"errors"
	"fmt"
	"math"

	"github.com/orderflow/orderflow/internal/historycost"
)

// Shape is what one bare workflow is built to cost, as historycost counts
// it: activities scheduled, LocalActivity markers, WorkflowTaskStarted.
type Shape struct {
	Activities      int `json:"activities"`
	LocalActivities int `json:"local_activities"`
	WorkflowTasks   int `json:"workflow_tasks"`
}

// ShapeOf is the shape of the mean order of s: each mean rounded to the
// nearest whole count.
func ShapeOf(s historycost.Summary) (Shape, error) {
	if s.N == 0 {
		return Shape{}, errors.New("no order's cost to copy: no history was read")
	}
	mean := func(name string) (int, error) {
		r, ok := s.Row(name)
		if !ok {
			return 0, fmt.Errorf("the orders' cost has no %q count", name)
		}
		return int(math.Round(r.Mean)), nil
	}
	var sh Shape
	var err error
	if sh.Activities, err = mean("activities"); err != nil {
		return Shape{}, err
	}
	if sh.LocalActivities, err = mean("local activities"); err != nil {
		return Shape{}, err
	}
	if sh.WorkflowTasks, err = mean("workflow tasks"); err != nil {
		return Shape{}, err
	}
	return sh, sh.Validate()
}

// Validate says which count cannot be built.
func (s Shape) Validate() error {
	switch {
	case s.Activities < 0 || s.LocalActivities < 0:
		return fmt.Errorf("shape %+v: counts cannot be negative", s)
	case s.WorkflowTasks < 1:
		return fmt.Errorf("shape %+v: a workflow takes at least one workflow task", s)
	}
	return nil
}

// Step is what the bare workflow does in one workflow task: run its local
// activities, then either schedule Activities no-op activities at once and
// wait for them, or start a timer of a millisecond and wait for it, or (the
// last step) return. Each wait ends the workflow task; the completion that
// ends the wait starts the next.
type Step struct {
	LocalActivities int  `json:"local_activities"`
	Activities      int  `json:"activities"`
	Timer           bool `json:"timer,omitempty"`
}

// Plan lays the shape out as workflow tasks, the last of which completes
// the workflow.
//
// A workflow that waits k times takes k+1 workflow tasks. With more
// workflow tasks than activities+1, the extra waits are timers. With fewer,
// some waits schedule several activities at once, as an order does when it
// sends its mails beside its main path; their completions share one
// workflow task only when they reach the server before it hands that task
// out, so such a plan takes from WorkflowTaskRange's least to its most
// (Run's caller reads what it took). Local activities are spread evenly
// over the workflow tasks: they run inside a task and add none.
func (s Shape) Plan() []Step {
	waits := max(s.WorkflowTasks-1, min(s.Activities, 1))
	steps := make([]Step, waits+1)
	for i := range waits {
		switch {
		case s.Activities >= waits:
			steps[i].Activities = s.Activities / waits
			if i < s.Activities%waits {
				steps[i].Activities++
			}
		case i < s.Activities:
			steps[i].Activities = 1
		default:
			steps[i].Timer = true
		}
	}
	for i := range steps {
		steps[i].LocalActivities = s.LocalActivities / len(steps)
		if i < s.LocalActivities%len(steps) {
			steps[i].LocalActivities++
		}
	}
	return steps
}

// WorkflowTaskRange is how many workflow tasks the plan takes: least when
// the completions of activities that share a wait share a workflow task,
// most when each gets its own. They are equal, and equal WorkflowTasks, when
// no wait schedules more than one activity and WorkflowTasks is at least 2
// for a shape with activities.
func (s Shape) WorkflowTaskRange() (least, most int) {
	plan := s.Plan()
	least, most = len(plan), len(plan)
	for _, st := range plan {
		if st.Activities > 1 {
			most += st.Activities - 1
		}
	}
	return least, most
}
