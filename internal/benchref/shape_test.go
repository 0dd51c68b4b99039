package benchref

import (
	"reflect"
	"testing"

	"github.com/orderflow/orderflow/internal/historycost"
)

func TestShapeOfRoundsTheMeanOrder(t *testing.T) {
	t.Parallel()
	// Three orders: 14, 14, 15 activities (mean 14.33), 16, 17, 17 local
	// activities (16.67), 12, 13, 15 workflow tasks (13.33).
	s := historycost.Summarize([]historycost.Cost{
		{Activities: 14, LocalActivities: 16, WorkflowTasks: 12},
		{Activities: 14, LocalActivities: 17, WorkflowTasks: 13},
		{Activities: 15, LocalActivities: 17, WorkflowTasks: 15},
	})
	got, err := ShapeOf(s)
	if want := (Shape{Activities: 14, LocalActivities: 17, WorkflowTasks: 13}); err != nil || got != want {
		t.Errorf("ShapeOf = %+v, %v; want %+v", got, err, want)
	}
	if _, err := ShapeOf(historycost.Summarize(nil)); err == nil {
		t.Error("ShapeOf(no orders): no error")
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shape       Shape
		want        []Step
		least, most int
	}{
		// More workflow tasks than activities+1: timers make up the rest.
		{Shape{Activities: 2, LocalActivities: 6, WorkflowTasks: 5},
			[]Step{{2, 1, false}, {1, 1, false}, {1, 0, true}, {1, 0, true}, {1, 0, false}}, 5, 5},
		// Exactly activities+1: one activity per wait.
		{Shape{Activities: 3, LocalActivities: 0, WorkflowTasks: 4},
			[]Step{{0, 1, false}, {0, 1, false}, {0, 1, false}, {}}, 4, 4},
		// Fewer: some waits schedule two activities at once.
		{Shape{Activities: 5, LocalActivities: 1, WorkflowTasks: 4},
			[]Step{{1, 2, false}, {0, 2, false}, {0, 1, false}, {}}, 4, 6},
		// Activities need at least one wait, so two workflow tasks.
		{Shape{Activities: 2, LocalActivities: 0, WorkflowTasks: 1},
			[]Step{{0, 2, false}, {}}, 2, 3},
		// Nothing but local activities: one workflow task.
		{Shape{Activities: 0, LocalActivities: 3, WorkflowTasks: 1},
			[]Step{{3, 0, false}}, 1, 1},
	}
	for _, tc := range tests {
		got := tc.shape.Plan()
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v.Plan() = %+v; want %+v", tc.shape, got, tc.want)
		}
		acts, las := 0, 0
		for _, st := range got {
			acts += st.Activities
			las += st.LocalActivities
		}
		if acts != tc.shape.Activities || las != tc.shape.LocalActivities {
			t.Errorf("%+v.Plan() has %d activities and %d local activities", tc.shape, acts, las)
		}
		if least, most := tc.shape.WorkflowTaskRange(); least != tc.least || most != tc.most {
			t.Errorf("%+v.WorkflowTaskRange() = %d, %d; want %d, %d", tc.shape, least, most, tc.least, tc.most)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, s := range []Shape{{WorkflowTasks: 0}, {Activities: -1, WorkflowTasks: 2}, {LocalActivities: -1, WorkflowTasks: 1}} {
		if s.Validate() == nil {
			t.Errorf("%+v.Validate(): no error", s)
		}
	}
}
