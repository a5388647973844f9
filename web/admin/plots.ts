// Two small bar charts drawn as SVG elements (no library). Sizes are SVG attributes, not inline styles, so the
// page's Content-Security-Policy needs no 'unsafe-inline'.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 420;
const HEIGHT = 160;
const PAD = { top: 10, right: 8, bottom: 28, left: 30 };

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Bars with a label under each (every `labelEvery`-th), the largest value on the axis, a tooltip per bar. */
export function barChart(
  svg: SVGSVGElement,
  bars: { label: string; value: number; title: string }[],
  labelEvery = 1,
): void {
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  const max = Math.max(1, ...bars.map((b) => b.value));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, bars.length);
  const children: SVGElement[] = [
    svgEl("line", { x1: PAD.left, y1: PAD.top + plotH, x2: WIDTH - PAD.right, y2: PAD.top + plotH, class: "axis" }),
    svgEl("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end", class: "tick" }, String(max)),
    svgEl("text", { x: PAD.left - 4, y: PAD.top + plotH, "text-anchor": "end", class: "tick" }, "0"),
  ];
  bars.forEach((bar, i) => {
    const h = (bar.value / max) * plotH;
    const rect = svgEl("rect", {
      x: PAD.left + i * step + step * 0.1,
      y: PAD.top + plotH - h,
      width: Math.max(1, step * 0.8),
      height: Math.max(bar.value ? 1 : 0, h),
      class: "bar",
    });
    rect.append(svgEl("title", {}, bar.title));
    children.push(rect);
    if (i % labelEvery === 0)
      children.push(
        svgEl(
          "text",
          { x: PAD.left + i * step + step / 2, y: HEIGHT - 10, "text-anchor": "middle", class: "tick" },
          bar.label,
        ),
      );
  });
  svg.replaceChildren(...children);
}
