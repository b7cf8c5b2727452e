// Follows a growing message list, but only while the reader is at the bottom.

const STICKY_PX = 48;

export class ScrollFollower {
  /**
   * @param {HTMLElement} scroller the scrolling box
   * @param {HTMLElement} jumpButton shown while the reader is away from the bottom
   * @param {HTMLElement} content what grows inside the scroller (the message list)
   */
  constructor(scroller, jumpButton, content) {
    this.scroller = scroller;
    this.jump = jumpButton;
    this.stick = true;
    this.lastTop = 0; // where the list was at its last scroll (ours or the reader's)
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    jumpButton.addEventListener("click", () => this.toBottom(true));
    // Heights change after our code runs: a reply's blocks and messages off screen have
    // estimated heights (content-visibility) that turn real as they come near, and scroll
    // anchoring then moves the view. Checked after layout and before paint, each frame the
    // list's size changes, so the bottom stays in view while the reader is there.
    new ResizeObserver(() => {
      if (this.stick) this.toBottom(false);
    }).observe(content);
  }

  // While following, only a move up leaves the bottom: content can grow between our scroll
  // and its event (a reply rendered without waiting for a frame), which is no reason to stop.
  onScroll() {
    const s = this.scroller;
    const movedUp = s.scrollTop < this.lastTop - 1;
    this.lastTop = s.scrollTop;
    if (this.stick && !movedUp) return;
    this.stick = s.scrollHeight - s.scrollTop - s.clientHeight < STICKY_PX;
    this.jump.hidden = this.stick || s.scrollHeight <= s.clientHeight;
  }

  /** Our own code moves the view elsewhere (a search hit): stop following the bottom. */
  release() {
    this.stick = false;
  }

  /**
   * Content grew: keep the bottom in view if the reader was there (the size watcher scrolls
   * once the frame's layout is done: reading the height now would lay out the page an extra
   * time), else offer a jump button.
   */
  follow() {
    if (!this.stick) this.jump.hidden = false;
  }

  toBottom(force) {
    if (force) this.stick = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.lastTop = this.scroller.scrollTop;
    this.jump.hidden = true;
  }
}
