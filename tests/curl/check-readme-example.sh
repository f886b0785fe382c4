#!/usr/bin/env bash
# check-readme-example.sh README EXAMPLE: the code block that follows the README's mention of
# examples/curl_client.c is that file, byte for byte (the README shows what the tests run).
set -euo pipefail
readme=${1:?usage: check-readme-example.sh README EXAMPLE}
example=${2:?}
diff -u "$example" <(awk '/A complete program, `examples\/curl_client.c`/ {found = 1}
  found && /^```c$/ {inside = 1; next}
  inside && /^```$/ {exit}
  inside {print}' "$readme") && echo "README shows $example as it is" && echo "1 passed, 0 failed"
