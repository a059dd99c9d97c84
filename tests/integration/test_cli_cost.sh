#!/bin/sh
# cellota cost reproduces seed 002's figures for its 50,000-device fleet and a 512 KB image:
# AWS $0.10 for requests and $2.23 for data (0.01 + 0.02 + 2.20), GCP $0.44 and $4.06
# (0.01 + 0.02 + 4.03); and --prices, --days, --request-size change what they should.
. "$(dirname "$0")/cli_common.sh"
cd "$scratch"

# line LABEL: the billed amount printed on the text line that starts with LABEL.
line() {
    sed -n "s/^  $1  .* \\(\\\$[0-9]*\\.[0-9][0-9]\\)\$/\\1/p" "$scratch/out" | head -n 1
}

# billed NAME: the "billed" number of member NAME in the JSON on $scratch/out.
billed() {
    tr -d '\n\t ' <"$scratch/out" | sed -n "s/.*\"$1\":{\"exact\":[^,]*,\"billed\":\\([0-9.]*\\)}.*/\\1/p"
}

expect 0 "" "$cellota" cost --devices 50000 --image-size 512KiB --provider aws
check "AWS: requests \$0.10" [ "$(line 'total requests')" = '$0.10' ]
check "AWS: 100002 billed messages" grep -q '100002 messages' "$scratch/out"
check "AWS: storage \$0.01" [ "$(line 'storage ')" = '$0.01' ]
check "AWS: storage exactly \$0.00000262" grep -q 'storage .* 0.00000262 ' "$scratch/out"
check "AWS: GETs \$0.02" [ "$(line 'GET requests')" = '$0.02' ]
check "AWS: transfer \$2.20" [ "$(line 'transfer')" = '$2.20' ]
check "AWS: 24.4141 GB transferred" grep -q '24.4141 GB' "$scratch/out"
check "AWS: data \$2.23" [ "$(line 'total data')" = '$2.23' ]
check "AWS: total \$2.33" [ "$(line 'total ')" = '$2.33' ]
check "AWS: prices are dated" grep -q 'prices of 2020-01-26, from seed 002' "$scratch/out"

expect 0 "" "$cellota" cost --devices 50000 --image-size 512KiB --provider gcp
check "GCP: requests \$0.44" [ "$(line 'total requests')" = '$0.44' ]
check "GCP: 97.65625 MB of messages" grep -q '97.65625 MB' "$scratch/out"
check "GCP: storage \$0.01" [ "$(line 'storage ')" = '$0.01' ]
check "GCP: GETs \$0.02" [ "$(line 'GET requests')" = '$0.02' ]
check "GCP: transfer \$4.03" [ "$(line 'transfer')" = '$4.03' ]
check "GCP: data \$4.06" [ "$(line 'total data')" = '$4.06' ]

# The same figures as JSON, and the seed's KB spelling means the same size.
expect 0 "" "$cellota" cost --devices 50000 --image-size 512KB --provider aws --json
check "AWS JSON: requests 0.1" [ "$(billed requests)" = 0.1 ]
check "AWS JSON: data 2.23" [ "$(billed data)" = 2.23 ]
check "AWS JSON: egress 2.2" [ "$(billed egress)" = 2.2 ]
check "AWS JSON: 100002 messages" grep -q '"billed_messages":[[:space:]]*100002' "$scratch/out"
expect 0 "" "$cellota" cost --devices 50000 --image-size 524288 --provider gcp --json
check "GCP JSON: requests 0.44" [ "$(billed requests)" = 0.44 ]
check "GCP JSON: data 4.06" [ "$(billed data)" = 4.06 ]
check "GCP JSON: storage 0.01" [ "$(billed storage)" = 0.01 ]

# A request over 5 KB is two AWS messages; over 1 KB counts its size on GCP.
expect 0 "" "$cellota" cost --devices 50000 --image-size 512KiB --provider aws --request-size 6KiB --json
check "AWS: a 6 KB request bills 150003 messages" grep -q '"billed_messages":[[:space:]]*150003' "$scratch/out"
expect 0 "" "$cellota" cost --devices 50000 --image-size 512KiB --provider gcp --request-size 2KiB --json
check "GCP: a 2 KB request bills 146.484375 MB" grep -q '"billed_message_mb":[[:space:]]*146.484375' "$scratch/out"

# Storage grows with the days; a month of a big image is more than a cent.
expect 0 "" "$cellota" cost --devices 1 --image-size 10GiB --provider aws --days 30 --json
check "AWS: 10 GB for 30 days is \$0.23" [ "$(billed storage)" = 0.23 ]
expect 0 "" "$cellota" cost --devices 0 --image-size 0 --provider gcp --days 0 --json
check "GCP: nothing costs nothing" [ "$(billed total)" = 0 ]

# --prices overrides some prices and keeps the rest; the other provider's section is checked.
cat >prices.json <<'JSON'
{
  "date": "2024-06-01",
  "comment": "example",
  "aws": {"egress_per_gb": 0.05, "per_million_messages": 1.2},
  "gcp": {"egress_per_gb": 0.12}
}
JSON
expect 0 "" "$cellota" cost --devices 50000 --image-size 512KiB --provider aws --prices prices.json
check "prices: the new date and source" grep -q 'prices of 2024-06-01, from prices.json' "$scratch/out"
check "prices: egress at \$0.05" [ "$(line 'transfer')" = '$1.22' ]
check "prices: messages at \$1.2/million" [ "$(line 'total requests')" = '$0.12' ]
check "prices: storage unchanged" [ "$(line 'storage ')" = '$0.01' ]
expect 0 "" "$cellota" cost --devices 50000 --image-size 512KiB --provider gcp --prices prices.json
check "prices: GCP egress at \$0.12" [ "$(line 'transfer')" = '$2.93' ]

finish
