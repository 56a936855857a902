#!/usr/bin/env bash
# Counts the lines of the eight tasks: non-blank, non-comment lines; for Rust also not the
# async main boilerplate (#[tokio::main], the fn main line, Ok(()) and main's closing brace).
cd "$(dirname "$0")"
total_rs=0; total_py=0
for t in ping upload search stats_table download groups maps set_title; do
  rs=$(grep -v '^\s*$' $t.rs | grep -v '^\s*//' | grep -v '^#\[tokio::main\]$\|^async fn main\|^    Ok(())$\|^}$' | wc -l)
  py=$(grep -v '^\s*$' python/$t.py | grep -v '^\s*#' | wc -l)
  total_rs=$((total_rs+rs)); total_py=$((total_py+py))
  printf '%-12s %3d %3d %s\n' $t $rs $py $(python3 -c "print(f'{$rs/$py:.2f}')")
done
printf '%-12s %3d %3d %s\n' total $total_rs $total_py $(python3 -c "print(f'{$total_rs/$total_py:.2f}')")
