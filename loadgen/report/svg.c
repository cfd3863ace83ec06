/* svg.c -- small SVG charts for 'loadgen plot': axes with ticks, series, bands and legends. */
#include "svg.h"

#include <math.h>
#include <string.h>

#define SVG_MAX_TICKS 24

void svg_begin(FILE *out, int width, int height)
{
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            "<style>\n"
            ".title{font-size:15px;font-weight:bold;fill:#222}\n"
            ".heading{font-size:19px;font-weight:bold;fill:#111}\n"
            ".label{font-size:12px;fill:#333}\n"
            ".tick{font-size:11px;fill:#555}\n"
            ".note{font-size:12px;fill:#555}\n"
            ".legend{font-size:12px;fill:#222}\n"
            ".grid{stroke:#e4e4e4;stroke-width:1}\n"
            ".frame{fill:none;stroke:#888;stroke-width:1}\n"
            ".band{fill:#f1ead8}\n"
            ".mark{stroke:#8a7f6a;stroke-width:1;stroke-dasharray:4 3}\n"
            "</style>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            width, height, width, height);
}

void svg_end(FILE *out)
{
    fputs("</svg>\n", out);
}

static void put_escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            fputc((unsigned char)*p < 0x20 ? '?' : *p, out);
        }
    }
}

void svg_text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *text)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
    put_escaped(out, text);
    fputs("</text>\n", out);
}

/* Data value to the axis' drawing units: itself, or a logarithm. */
static double axis_unit(svg_axis axis, double v)
{
    switch (axis) {
    case SVG_AXIS_MS_LOG: return log10(v > 0 ? v : 1e-9);
    case SVG_AXIS_NINES: return log10(1.0 / fmax(1e-9, 1.0 - v / 100.0));
    default: return v;
    }
}

static double px_x(const svg_chart *c, double v)
{
    double a = axis_unit(c->xaxis, c->x0), b = axis_unit(c->xaxis, c->x1);
    return c->left + (axis_unit(c->xaxis, v) - a) / (b - a) * c->width;
}

static double px_y(const svg_chart *c, double v)
{
    double a = axis_unit(c->yaxis, c->y0), b = axis_unit(c->yaxis, c->y1);
    return c->top + c->height - (axis_unit(c->yaxis, v) - a) / (b - a) * c->height;
}

/* A round step giving about `want` ticks over span: 1, 2 or 5 x 10^k. */
static double nice_step(double span, int want)
{
    double raw = span / want, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

static void nice_range(svg_axis axis, double *lo, double *hi)
{
    if (axis == SVG_AXIS_LINEAR) {
        if (!(*hi > *lo))
            *hi = *lo + 1;
        double step = nice_step(*hi - *lo, 5);
        *hi = ceil(*hi / step - 1e-9) * step;
    } else if (axis == SVG_AXIS_MS_LOG) {
        *lo = pow(10, floor(log10(*lo > 0 ? *lo : 1)));
        *hi = pow(10, ceil(log10(*hi > *lo ? *hi : *lo * 10)));
    } else {
        *lo = 0; /* the upper end stays where the data ends: the last nines add nothing */
    }
}

void svg_chart_nice(svg_chart *c)
{
    nice_range(c->xaxis, &c->x0, &c->x1);
    nice_range(c->yaxis, &c->y0, &c->y1);
}

/* The tick values of an axis over [lo, hi] and their labels; returns how many. */
static int axis_ticks(svg_axis axis, double lo, double hi, double *ticks, char labels[][24])
{
    int n = 0;
    if (axis == SVG_AXIS_LINEAR) {
        double step = nice_step(hi - lo, 5);
        for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-6 && n < SVG_MAX_TICKS;
             v += step, n++) {
            ticks[n] = fabs(v) < step * 1e-6 ? 0 : v;
            snprintf(labels[n], 24, fabs(ticks[n]) >= 1e6 ? "%.3gM" : step < 1 ? "%.1f" : "%.0f",
                     fabs(ticks[n]) >= 1e6 ? ticks[n] / 1e6 : ticks[n]);
        }
    } else if (axis == SVG_AXIS_MS_LOG) {
        for (double v = lo; v <= hi * 1.0001 && n < SVG_MAX_TICKS; v *= 10, n++) {
            ticks[n] = v;
            if (v >= 1e6)
                snprintf(labels[n], 24, "%g s", v / 1e6);
            else
                snprintf(labels[n], 24, "%g ms", v / 1e3);
        }
    } else {
        static const char *const names[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%",
                                            "99.9999%", "99.99999%"};
        for (int k = 0; k < 8 && 100.0 - 100.0 * pow(10, -k) <= hi + 1e-9; k++, n++) {
            ticks[n] = 100.0 - 100.0 * pow(10, -k);
            snprintf(labels[n], 24, "%s", names[k]);
        }
    }
    return n;
}

void svg_chart_axes(const svg_chart *c, const char *title, const char *xlabel, const char *ylabel)
{
    double ticks[SVG_MAX_TICKS];
    char labels[SVG_MAX_TICKS][24];
    int n = axis_ticks(c->xaxis, c->x0, c->x1, ticks, labels);
    for (int i = 0; i < n; i++) {
        double x = px_x(c, ticks[i]);
        fprintf(c->out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
                c->top, x, c->top + c->height);
        svg_text(c->out, x, c->top + c->height + 15, "middle", "tick", labels[i]);
    }
    n = axis_ticks(c->yaxis, c->y0, c->y1, ticks, labels);
    for (int i = 0; i < n; i++) {
        double y = px_y(c, ticks[i]);
        fprintf(c->out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
                c->left, y, c->left + c->width, y);
        svg_text(c->out, c->left - 6, y + 4, "end", "tick", labels[i]);
    }
    fprintf(c->out, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            c->left, c->top, c->width, c->height);
    svg_text(c->out, c->left, c->top - 10, "start", "title", title);
    svg_text(c->out, c->left + c->width / 2, c->top + c->height + 33, "middle", "label", xlabel);
    fprintf(c->out, "<g transform=\"translate(%.1f %.1f) rotate(-90)\">", c->left - 48,
            c->top + c->height / 2);
    svg_text(c->out, 0, 0, "middle", "label", ylabel);
    fputs("</g>\n", c->out);
}

void svg_chart_band(const svg_chart *c, double a, double b, const char *label)
{
    double xa = px_x(c, a), xb = px_x(c, b);
    fprintf(c->out, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            xa, c->top, xb - xa, c->height);
    /* The long label where it fits, else its first word. */
    char word[32];
    snprintf(word, sizeof(word), "%.*s", (int)strcspn(label, " "), label);
    svg_text(c->out, (xa + xb) / 2, c->top + c->height - 8, "middle", "note",
             xb - xa > 6.5 * (double)strlen(label) ? label : word);
}

void svg_chart_mark(const svg_chart *c, double x, const char *label)
{
    double px = px_x(c, x);
    fprintf(c->out, "<line class=\"mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px,
            c->top, px, c->top + c->height);
    svg_text(c->out, px + 3, c->top + c->height - 8, "start", "note", label);
}

/* One polyline per unbroken run of points (a NaN or an off-scale value breaks it). */
static void draw_series(const svg_chart *c, const svg_series *s)
{
    int open = 0;
    for (size_t i = 0; i < s->n; i++) {
        int usable = !isnan(s->y[i]) && (c->yaxis == SVG_AXIS_LINEAR || s->y[i] > 0);
        if (!usable) {
            if (open)
                fputs("\"/>\n", c->out);
            open = 0;
            continue;
        }
        if (!open)
            fprintf(c->out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s "
                    "stroke-linejoin=\"round\" data-series=\"%s\" points=\"",
                    s->color, s->dash ? " stroke-dasharray=\"" : "", s->dash ? s->dash : "",
                    s->dash ? "\"" : "", s->name);
        fprintf(c->out, "%s%.1f,%.1f", open ? " " : "", px_x(c, s->x[i]), px_y(c, s->y[i]));
        open = 1;
    }
    if (open)
        fputs("\"/>\n", c->out);
    /* With few points, dots show where the measurements are. */
    for (size_t i = 0; s->n <= 40 && i < s->n; i++)
        if (!isnan(s->y[i]) && (c->yaxis == SVG_AXIS_LINEAR || s->y[i] > 0))
            fprintf(c->out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                    px_x(c, s->x[i]), px_y(c, s->y[i]), s->color);
}

void svg_chart_series(const svg_chart *c, const svg_series *series, int n)
{
    fprintf(c->out, "<svg x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" overflow=\"hidden\" "
            "viewBox=\"%.1f %.1f %.1f %.1f\">\n", c->left, c->top, c->width, c->height, c->left,
            c->top, c->width, c->height);
    for (int i = 0; i < n; i++)
        draw_series(c, &series[i]);
    fputs("</svg>\n", c->out);
    /* The legend sits above the plot area, right-aligned on the title's line. */
    double total = 0, y = c->top - 10;
    for (int i = 0; i < n; i++)
        total += 40.0 + 6.5 * (double)strlen(series[i].name);
    double x = c->left + c->width - total;
    for (int i = 0; i < n; i++) {
        fprintf(c->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"3\"%s%s%s/>\n", x, y - 4, x + 22, y - 4, series[i].color,
                series[i].dash ? " stroke-dasharray=\"" : "", series[i].dash ? series[i].dash : "",
                series[i].dash ? "\"" : "");
        svg_text(c->out, x + 27, y, "start", "legend", series[i].name);
        x += 40.0 + 6.5 * (double)strlen(series[i].name);
    }
}
