package historycost

import "slices"

// Row summarizes one count over many workflows.
type Row struct {
	Name string  `json:"name"`
	Mean float64 `json:"mean"`
	P50  int     `json:"p50"`
	Min  int     `json:"min"`
	Max  int     `json:"max"`
}

// Summary is the cost per workflow over a set of workflows.
type Summary struct {
	// N is how many workflows were counted.
	N    int   `json:"n"`
	Rows []Row `json:"rows"`
}

// columns are the counts a Summary shows, in order.
var columns = []struct {
	name string
	get  func(Cost) int
}{
	{"runs", func(c Cost) int { return c.Runs }},
	{"history events", func(c Cost) int { return c.Events }},
	{"workflow tasks", func(c Cost) int { return c.WorkflowTasks }},
	{"activities", func(c Cost) int { return c.Activities }},
	{"activity attempts", func(c Cost) int { return c.ActivityAttempts }},
	{"local activities", func(c Cost) int { return c.LocalActivities }},
	{"local activity retries", func(c Cost) int { return c.LocalActivityRetries }},
	{"tasks recording markers", func(c Cost) int { return c.MarkerTasks }},
	{"timers", func(c Cost) int { return c.Timers }},
	{"signals received", func(c Cost) int { return c.Signals }},
	{"signals sent", func(c Cost) int { return c.SignalsSent }},
	{"updates accepted", func(c Cost) int { return c.Updates }},
	{"search-attribute upserts", func(c Cost) int { return c.Upserts }},
	{"of which TemporalChangeVersion only", func(c Cost) int { return c.VersionUpserts }},
	{"version markers", func(c Cost) int { return c.Versions }},
	{"child workflows", func(c Cost) int { return c.ChildWorkflows }},
	{"continue-as-new", func(c Cost) int { return c.ContinueAsNew }},
	{"billable actions", func(c Cost) int { return c.Billable }},
}

// Summarize computes each count's mean, nearest-rank median, minimum and
// maximum over costs.
func Summarize(costs []Cost) Summary {
	s := Summary{N: len(costs)}
	if len(costs) == 0 {
		return s
	}
	vals := make([]int, len(costs))
	for _, col := range columns {
		sum := 0
		for i, c := range costs {
			vals[i] = col.get(c)
			sum += vals[i]
		}
		slices.Sort(vals)
		s.Rows = append(s.Rows, Row{
			Name: col.name, Mean: float64(sum) / float64(len(vals)),
			P50: vals[(len(vals)+1)/2-1], Min: vals[0], Max: vals[len(vals)-1],
		})
	}
	return s
}

// Row returns the row named name, if the summary has it.
func (s Summary) Row(name string) (Row, bool) {
	for _, r := range s.Rows {
		if r.Name == name {
			return r, true
		}
	}
	return Row{}, false
}
