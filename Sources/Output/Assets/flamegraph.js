// Interactivity for pyrograph flame graphs: hover details, click to zoom,
// regular-expression search, and panning over a graph deeper than its
// height. FlameGraphWriter and
// DiffFlameGraphWriter embed this file in every SVG.
//
// The layout comes from data attributes the writer puts on <g id="frames">
// and on each frame, in sample units, so zooming recomputes positions
// exactly instead of scaling rounded pixels.
"use strict";
(function () {
    var HIGHLIGHT_FILL = "rgb(230,0,230)";

    var geometry;
    var frames = [];
    var frameOfElement = new Map();
    var rootFrame = null;
    var zoomedFrame = null;
    var searchPattern = null;
    var details, matched, levels, resetZoomButton, resetSearchButton;

    function numberAttribute(element, name) {
        return Number(element.getAttribute(name));
    }

    function readGeometry(group) {
        return {
            totalSamples: numberAttribute(group, "data-total-samples"),
            left: numberAttribute(group, "data-left"),
            graphWidth: numberAttribute(group, "data-graph-width"),
            charWidth: numberAttribute(group, "data-char-width"),
            labelPadding: numberAttribute(group, "data-label-padding"),
            minimumWidth: numberAttribute(group, "data-minimum-width"),
            frameHeight: numberAttribute(group, "data-frame-height"),
            icicle: group.getAttribute("data-layout") === "icicle",
            maxDepth: numberAttribute(group, "data-max-depth"),
            firstLevel: numberAttribute(group, "data-first-level"),
            levelsShown: numberAttribute(group, "data-levels-shown"),
            // Only in a differential graph: the compared profile's total.
            baselineTotal: group.hasAttribute("data-baseline-total")
                ? numberAttribute(group, "data-baseline-total") : null
        };
    }

    function readFrame(element) {
        var title = element.querySelector("title").textContent;
        var rect = element.querySelector("rect");
        // The title is "NAME (...)"; the part in parentheses holds no " (".
        var name = title.slice(0, title.lastIndexOf(" ("));
        var labels = [name];
        for (var i = 1; element.hasAttribute("data-label-" + i); i++) {
            labels.push(element.getAttribute("data-label-" + i));
        }
        return {
            element: element,
            rect: rect,
            label: element.querySelector("text"),
            title: title,
            name: name,
            labels: labels,
            kind: element.getAttribute("data-kind"),
            samples: numberAttribute(element, "data-samples"),
            offset: numberAttribute(element, "data-offset"),
            depth: numberAttribute(element, "data-depth"),
            baseline: numberAttribute(element, "data-baseline"),
            fill: rect.getAttribute("fill")
        };
    }

    function rounded(value) {
        return String(Math.round(value * 100) / 100);
    }

    // Same rule as FlameGraphLabel.fitted, counting code points: the first
    // label that fits whole, else the shortest one cut.
    function fittedLabel(labels, width) {
        var room = (width - 2 * geometry.labelPadding) / geometry.charWidth;
        if (room < 3) return "";
        var maxChars = Math.floor(room);
        for (var i = 0; i < labels.length; i++) {
            if (Array.from(labels[i]).length <= maxChars) return labels[i];
        }
        return Array.from(labels[labels.length - 1]).slice(0, maxChars - 2).join("") + "..";
    }

    function place(frame, x, width) {
        frame.rect.setAttribute("x", rounded(x));
        frame.rect.setAttribute("width", rounded(width));
        frame.label.setAttribute("x", rounded(x + geometry.labelPadding));
        frame.label.textContent = fittedLabel(frame.labels, width);
    }

    function spans(outer, inner) {
        return inner.offset >= outer.offset &&
            inner.offset + inner.samples <= outer.offset + outer.samples;
    }

    // The target fills the width; what it called is rescaled above it, its
    // callers stay below, faded, and everything else is hidden.
    function zoom(target) {
        var scale = geometry.graphWidth / target.samples;
        frames.forEach(function (frame) {
            var visible = false;
            var faded = false;
            if (frame.depth >= target.depth && spans(target, frame)) {
                var width = frame.samples * scale;
                visible = width >= geometry.minimumWidth;
                if (visible) place(frame, geometry.left + (frame.offset - target.offset) * scale, width);
            } else if (frame.depth < target.depth && spans(frame, target)) {
                visible = true;
                faded = true;
                place(frame, geometry.left, geometry.graphWidth);
            }
            frame.element.classList.toggle("hidden", !visible);
            frame.element.classList.toggle("faded", faded);
        });
        zoomedFrame = target === rootFrame ? null : target;
        resetZoomButton.classList.toggle("hidden", zoomedFrame === null);
    }

    function resetZoom() {
        zoom(rootFrame);
    }

    // Nested matches cover the same samples, so the share is the length of
    // the union of the matched frames' sample ranges, not the sum.
    function uniqueSamples(ranges) {
        ranges.sort(function (a, b) { return a[0] - b[0]; });
        var total = 0;
        var coveredUpTo = -Infinity;
        ranges.forEach(function (range) {
            var start = Math.max(range[0], coveredUpTo);
            if (range[1] > start) {
                total += range[1] - start;
                coveredUpTo = range[1];
            }
        });
        return total;
    }

    function search(pattern) {
        var regex;
        try {
            regex = new RegExp(pattern);
        } catch (error) {
            details.textContent = "Invalid regular expression: " + pattern;
            return;
        }
        searchPattern = pattern;
        var ranges = [];
        frames.forEach(function (frame) {
            var hit = frame !== rootFrame && regex.test(frame.name);
            frame.rect.setAttribute("fill", hit ? HIGHLIGHT_FILL : frame.fill);
            frame.element.classList.toggle("matched", hit);
            if (hit) ranges.push([frame.offset, frame.offset + frame.samples]);
        });
        var share = 100 * uniqueSamples(ranges) / geometry.totalSamples;
        matched.textContent = "Matched: " + share.toFixed(1) + "%";
        if (geometry.baselineTotal !== null) {
            var before = 100 * matchedBaseline(regex) / Math.max(geometry.baselineTotal, 1);
            var change = share - before;
            matched.textContent = "Matched: before " + before.toFixed(1) + "%, after " + share.toFixed(1) +
                "%, " + (change >= 0 ? "+" : "") + change.toFixed(1) + " points";
        }
        resetSearchButton.classList.remove("hidden");
    }

    // The compared profile's samples under the matches, counting a match
    // nested in another match once: its samples are already in the outer one.
    function matchedBaseline(regex) {
        var counted = [];
        frames
            .filter(function (frame) { return frame !== rootFrame && regex.test(frame.name); })
            .sort(function (a, b) { return a.depth - b.depth; })
            .forEach(function (frame) {
                if (!counted.some(function (outer) { return spans(outer, frame); })) counted.push(frame);
            });
        return counted.reduce(function (sum, frame) { return sum + frame.baseline; }, 0);
    }

    function resetSearch() {
        searchPattern = null;
        frames.forEach(function (frame) {
            frame.rect.setAttribute("fill", frame.fill);
            frame.element.classList.remove("matched");
        });
        matched.textContent = "";
        resetSearchButton.classList.add("hidden");
    }

    function promptForSearch() {
        var pattern = window.prompt("Search frames (regular expression):", searchPattern || "");
        if (pattern === null) return;
        if (pattern === "") resetSearch();
        else search(pattern);
    }

    // Read by hand rather than with URLSearchParams, which turns "+" into a
    // space and would break patterns such as "foo.+bar".
    function parameter(text, key) {
        var pairs = text.replace(/^[?#]/, "").split("&");
        for (var i = 0; i < pairs.length; i++) {
            var equals = pairs[i].indexOf("=");
            if (equals < 0 || pairs[i].slice(0, equals) !== key) continue;
            var value = pairs[i].slice(equals + 1);
            try {
                return decodeURIComponent(value);
            } catch (error) {
                return value;
            }
        }
        return null;
    }

    // A graph deeper than its height opens on a window of levels, chosen
    // by the writer; the wheel and the arrow and page keys move the frames
    // by `pan` pixels from there, between the root and the deepest level.
    var pan = 0;

    function panLimits() {
        var hidden = geometry.maxDepth + 1 - geometry.levelsShown;
        var first = geometry.firstLevel * geometry.frameHeight;
        var rest = (hidden - geometry.firstLevel) * geometry.frameHeight;
        return geometry.icicle ? [-rest, first] : [-first, rest];
    }

    function panBy(pixels) {
        var limits = panLimits();
        pan = Math.max(limits[0], Math.min(limits[1], pan + pixels));
        document.getElementById("frames").setAttribute("transform", "translate(0," + rounded(pan) + ")");
        var shift = Math.round(pan / geometry.frameHeight);
        var first = geometry.firstLevel + (geometry.icicle ? -shift : shift);
        // The same words as FlameGraphSVG.levelsText.
        levels.textContent = "levels " + first + "\u2013" + (first + geometry.levelsShown - 1) +
            " of 0\u2013" + geometry.maxDepth + ": scroll for the rest";
    }

    function startPanning() {
        levels = document.getElementById("levels");
        if (!levels) return;
        window.addEventListener("wheel", function (event) {
            event.preventDefault();
            var lines = event.deltaMode === 0 ? event.deltaY : event.deltaY * geometry.frameHeight;
            panBy(-lines);
        }, { passive: false });
        window.addEventListener("keydown", function (event) {
            var page = (geometry.levelsShown - 1) * geometry.frameHeight;
            var step = { ArrowUp: geometry.frameHeight, ArrowDown: -geometry.frameHeight,
                         PageUp: page, PageDown: -page }[event.key];
            if (step === undefined) return;
            event.preventDefault();
            panBy(step);
        });
    }

    function frameFromEvent(event) {
        var element = event.target.closest ? event.target.closest("g.frame") : null;
        return element ? frameOfElement.get(element) : undefined;
    }

    function start() {
        var group = document.getElementById("frames");
        if (!group) return;
        geometry = readGeometry(group);
        details = document.getElementById("details");
        matched = document.getElementById("matched");
        resetZoomButton = document.getElementById("reset-zoom");
        resetSearchButton = document.getElementById("reset-search");

        Array.prototype.forEach.call(group.querySelectorAll("g.frame"), function (element) {
            var frame = readFrame(element);
            frames.push(frame);
            frameOfElement.set(element, frame);
            if (frame.depth === 0) rootFrame = frame;
        });
        if (!rootFrame) return;

        group.addEventListener("mouseover", function (event) {
            var frame = frameFromEvent(event);
            if (frame) details.textContent = frame.title;
        });
        group.addEventListener("mouseout", function (event) {
            if (frameFromEvent(event)) details.textContent = "";
        });
        group.addEventListener("click", function (event) {
            var frame = frameFromEvent(event);
            if (frame) zoom(frame);
        });
        resetZoomButton.addEventListener("click", resetZoom);
        document.getElementById("search").addEventListener("click", promptForSearch);
        resetSearchButton.addEventListener("click", resetSearch);
        window.addEventListener("keydown", function (event) {
            if ((event.ctrlKey || event.metaKey) && (event.key === "f" || event.key === "F")) {
                event.preventDefault();
                promptForSearch();
            } else if (event.key === "Escape") {
                resetSearch();
            }
        });

        var pattern = parameter(window.location.search, "s");
        if (pattern === null) pattern = parameter(window.location.hash, "s");
        if (pattern) search(pattern);
        startPanning();
    }

    // The script sits before the frames in the document, so it waits for them.
    if (document.readyState === "complete") start();
    else window.addEventListener("load", start);
})();
