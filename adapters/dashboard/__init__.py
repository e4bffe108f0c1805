"""The brain explorer: a web dashboard served by `nmem serve` at /ui (and opened by `nmem ui`).

`routes.OPS` are its routes, added to the HTTP server's route table (so they are typed,
validated and in the OpenAPI document like every other route); `static/` holds the page, its
script and its styles: plain JavaScript and SVG, no framework, nothing fetched from a network.
"""
