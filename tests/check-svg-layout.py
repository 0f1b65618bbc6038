#!/usr/bin/env python3
"""check-svg-layout.py FILE.svg: quota-sim's chart keeps its labels apart.

Each account's plot is the rect of class "frame".  Under it the start and
end dates sit at the frame's corners, so no month label (class "xl") may
come within 36 px of either side; notes (class "leg") stay out of the plot,
where the cost and package lines run.  The lines (polylines) stay inside
their panel's frame, the one written before them, and run forward in time
(x never decreases).  Prints what collides; exit 1 if any.
"""
import sys
import xml.dom.minidom as m

EDGE = 36
doc = m.parse(sys.argv[1])
frames = [
    tuple(float(r.getAttribute(k)) for k in ("x", "y", "width", "height"))
    for r in doc.getElementsByTagName("rect")
    if r.getAttribute("class") == "frame"
]
bad = []
for t in doc.getElementsByTagName("text"):
    cls, x, y = t.getAttribute("class"), t.getAttribute("x"), t.getAttribute("y")
    if not x or not y:
        continue
    x, y = float(x), float(y)
    text = "".join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE)
    for fx, fy, fw, fh in frames:
        if cls == "xl" and fy + fh < y < fy + fh + 30:
            if x - fx < EDGE or fx + fw - x < EDGE:
                bad.append("month label %r at x=%g runs into a corner date" % (text, x))
        if cls == "leg" and fx < x < fx + fw and fy < y < fy + fh:
            bad.append("note %r is inside the plot at (%g, %g)" % (text, x, y))
frame = None
for e in doc.getElementsByTagName("*"):
    if e.tagName == "rect" and e.getAttribute("class") == "frame":
        frame = tuple(float(e.getAttribute(k)) for k in ("x", "y", "width", "height"))
    if e.tagName != "polyline" or not e.getAttribute("points").strip():
        continue
    pts = [tuple(float(v) for v in p.split(",")) for p in e.getAttribute("points").split()]
    if frame is None:
        bad.append("a %s line before any frame" % e.getAttribute("class"))
        continue
    fx, fy, fw, fh = frame
    out = [p for p in pts if not (fx - 0.05 <= p[0] <= fx + fw + 0.05 and fy - 0.05 <= p[1] <= fy + fh + 0.05)]
    if out:
        bad.append("a %s line leaves its frame at %r" % (e.getAttribute("class"), out[0]))
    back = [(a, b) for a, b in zip(pts, pts[1:]) if b[0] < a[0]]
    if back:
        bad.append("a %s line runs back in time from %r to %r" % ((e.getAttribute("class"),) + back[0]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
