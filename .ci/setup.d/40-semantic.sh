# The semantic layer's integration tests use the real model: install the extra (model2vec,
# with tokenizers and safetensors; no torch) into the .venv that .ci/run then reuses.
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test,semantic]'
