// Follows a growing message list, but only while the reader is at the bottom.

const STICKY_PX = 48;

export class ScrollFollower {
  constructor(scroller, jumpButton) {
    this.scroller = scroller;
    this.jump = jumpButton;
    this.stick = true;
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    jumpButton.addEventListener("click", () => this.toBottom(true));
  }

  onScroll() {
    const s = this.scroller;
    this.stick = s.scrollHeight - s.scrollTop - s.clientHeight < STICKY_PX;
    this.jump.hidden = this.stick || s.scrollHeight <= s.clientHeight;
  }

  /** Content grew: keep the bottom in view if the reader was there, else offer a jump button. */
  follow() {
    if (this.stick) this.toBottom(false);
    else this.jump.hidden = false;
  }

  toBottom(force) {
    if (force) this.stick = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }
}
