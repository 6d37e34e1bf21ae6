package e2e

// Page interaction for the consent tool test and the demo screenshots:
// scripts evaluated in the page, waits on page conditions, clicks as a
// visitor makes them.

import (
	"context"
	"encoding/json"
	"fmt"
)

// eval runs a JavaScript expression in the page and decodes its value;
// promises are awaited.
func (t *tab) eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := t.s.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("evaluating %q: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if out != nil {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// axNode is a node of Chromium's accessibility tree: what a screen reader
// announces.
type axNode struct {
	Ignored bool `json:"ignored"`
	Role    struct {
		Value string `json:"value"`
	} `json:"role"`
	Name struct {
		Value string `json:"value"`
	} `json:"name"`
}

// axTree returns the page's whole accessibility tree.
func (t *tab) axTree(ctx context.Context) ([]axNode, error) {
	var ax struct {
		Nodes []axNode `json:"nodes"`
	}
	err := t.s.call(ctx, "Accessibility.getFullAXTree", map[string]any{}, &ax)
	return ax.Nodes, err
}

// waitFor waits, inside the page, until the JavaScript condition holds: the
// page checks it on every animation frame and resolves a promise, so the
// wait ends on the frame the condition becomes true.
func (t *tab) waitFor(ctx context.Context, cond string) error {
	expr := `new Promise((resolve, reject) => {
		const deadline = performance.now() + 10000;
		const check = () => {
			let ok = false;
			try { ok = !!(` + cond + `); } catch (e) {}
			if (ok) return resolve(true);
			if (performance.now() > deadline) return reject(new Error("timed out"));
			requestAnimationFrame(check);
		};
		check();
	})`
	if err := t.eval(ctx, expr, nil); err != nil {
		return fmt.Errorf("waiting for %s: %w", cond, err)
	}
	return nil
}

// click clicks the middle of the first element matching selector, as a
// visitor would: mouse events at the element's box on the page. It first
// waits until a visitor could: the element's box has not moved since the
// frame before (a dialog that is still being laid out moves its buttons) and
// the point in its middle hits it (nothing covers it).
func (t *tab) click(ctx context.Context, selector string) error {
	sel, err := json.Marshal(selector)
	if err != nil {
		return err
	}
	if err := t.waitFor(ctx, `(() => {
		const el = document.querySelector(`+string(sel)+`);
		if (!el) return false;
		const r = el.getBoundingClientRect(), box = [r.x, r.y, r.width, r.height].join();
		const moved = el.__clickBox !== box;
		el.__clickBox = box;
		if (moved || r.width === 0 || r.height === 0) return false;
		const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
		return hit === el || el.contains(hit);
	})()`); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	var doc struct {
		Root struct {
			NodeID int `json:"nodeId"`
		} `json:"root"`
	}
	if err := t.s.call(ctx, "DOM.getDocument", map[string]any{"depth": 0}, &doc); err != nil {
		return err
	}
	var q struct {
		NodeID int `json:"nodeId"`
	}
	if err := t.s.call(ctx, "DOM.querySelector", map[string]any{
		"nodeId": doc.Root.NodeID, "selector": selector}, &q); err != nil {
		return err
	}
	if q.NodeID == 0 {
		return fmt.Errorf("click: no element matches %s", selector)
	}
	var box struct {
		Model struct {
			Border []float64 `json:"border"`
		} `json:"model"`
	}
	if err := t.s.call(ctx, "DOM.getBoxModel", map[string]any{"nodeId": q.NodeID}, &box); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	quad := box.Model.Border
	if len(quad) != 8 {
		return fmt.Errorf("click %s: no box", selector)
	}
	x := (quad[0] + quad[2] + quad[4] + quad[6]) / 4
	y := (quad[1] + quad[3] + quad[5] + quad[7]) / 4
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p := map[string]any{"type": typ, "x": x, "y": y}
		if typ != "mouseMoved" {
			p["button"], p["clickCount"] = "left", 1
		}
		if err := t.s.call(ctx, "Input.dispatchMouseEvent", p, nil); err != nil {
			return err
		}
	}
	return nil
}
