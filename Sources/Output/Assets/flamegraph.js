// Interactivity for pyrograph flame graphs: hover details, click to zoom,
// regular-expression search. FlameGraphWriter embeds this file in every SVG.
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
    var details, matched, resetZoomButton, resetSearchButton;

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
            minimumWidth: numberAttribute(group, "data-minimum-width")
        };
    }

    function readFrame(element) {
        var title = element.querySelector("title").textContent;
        var rect = element.querySelector("rect");
        return {
            element: element,
            rect: rect,
            label: element.querySelector("text"),
            title: title,
            // The title is "NAME (N samples, P%)"; the suffix holds no " (".
            name: title.slice(0, title.lastIndexOf(" (")),
            kind: element.getAttribute("data-kind"),
            samples: numberAttribute(element, "data-samples"),
            offset: numberAttribute(element, "data-offset"),
            depth: numberAttribute(element, "data-depth"),
            fill: rect.getAttribute("fill")
        };
    }

    function rounded(value) {
        return String(Math.round(value * 100) / 100);
    }

    // Same rule as FlameGraphWriter.fittedLabel, counting code points.
    function fittedLabel(name, width) {
        var room = (width - 2 * geometry.labelPadding) / geometry.charWidth;
        if (room < 3) return "";
        var maxChars = Math.floor(room);
        var chars = Array.from(name);
        if (chars.length <= maxChars) return name;
        return chars.slice(0, maxChars - 2).join("") + "..";
    }

    function place(frame, x, width) {
        frame.rect.setAttribute("x", rounded(x));
        frame.rect.setAttribute("width", rounded(width));
        frame.label.setAttribute("x", rounded(x + geometry.labelPadding));
        frame.label.textContent = fittedLabel(frame.name, width);
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
        resetSearchButton.classList.remove("hidden");
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
    }

    // The script sits before the frames in the document, so it waits for them.
    if (document.readyState === "complete") start();
    else window.addEventListener("load", start);
})();
