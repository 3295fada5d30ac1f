// What the page's classic scripts define (ui/vendor, served from the vega-embed package).
interface Window {
  vegaEmbed(
    el: HTMLElement,
    spec: unknown,
    options?: { actions?: boolean; renderer?: 'svg' | 'canvas' },
  ): Promise<unknown>
}
