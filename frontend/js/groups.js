// The sidebar's groups: Pinned, then Today / Yesterday / Previous 7 days / Older by each
// chat's `updated_at`, in the user's own time zone (the browser's). Search results are
// ranked by relevance, not time, so only the unfiltered list is grouped.

/**
 * The list in groups, each keeping the list's order (newest first); empty groups are left out.
 * @param {Array<{updated_at: string, pinned?: boolean}>} conversations
 * @param {Date} now
 * @returns {Array<{key: string, label: string, items: Array}>}
 */
export function groupConversations(conversations, now = new Date()) {
  // Local midnights from the calendar, not now − n×24 h: a DST day has 23 or 25 hours.
  const midnight = (daysAgo) => new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysAgo);
  const bounds = [
    { key: "today", label: "Today", from: midnight(0) },
    { key: "yesterday", label: "Yesterday", from: midnight(1) },
    { key: "week", label: "Previous 7 days", from: midnight(7) },
    { key: "older", label: "Older", from: null },
  ];
  const groups = [{ key: "pinned", label: "Pinned", items: [] }];
  for (const { key, label } of bounds) groups.push({ key, label, items: [] });
  for (const c of conversations) {
    if (c.pinned) {
      groups[0].items.push(c);
      continue;
    }
    const at = new Date(c.updated_at);
    // A time in the future (another machine's clock) counts as today.
    const index = bounds.findIndex((b) => b.from === null || at >= b.from);
    groups[index + 1].items.push(c);
  }
  return groups.filter((g) => g.items.length > 0);
}
