# median returns the median of list[1..count] and sets the globals low and
# high to its smallest and largest entry. The benchmark scripts prepend
# this file to their awk programs.
function median(list, count,    sorted, i, j, swap) {
  for (i = 1; i <= count; i++) sorted[i] = list[i]
  for (i = 2; i <= count; i++)
    for (j = i; j > 1 && sorted[j - 1] > sorted[j]; j--) {
      swap = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = swap
    }
  low = sorted[1]; high = sorted[count]
  if (count % 2) return sorted[(count + 1) / 2]
  return (sorted[count / 2] + sorted[count / 2 + 1]) / 2
}
