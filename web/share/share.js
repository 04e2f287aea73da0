// The public page of a share link (/s/<token>): one player for the share's songs. Clicking a song plays
// it; at the end of one the next starts. Without this script the links still play each song.

const player = document.getElementById('player');
const links = [...document.querySelectorAll('a.play')];
let current = 0;

function mark() {
  links.forEach((a, i) => a.toggleAttribute('aria-current', i === current));
}

function play(i) {
  if (i < 0 || i >= links.length) return;
  current = i;
  player.src = links[i].getAttribute('href');
  mark();
  player.play().catch(() => { /* the visitor presses play */ });
}

for (const [i, a] of links.entries()) {
  a.addEventListener('click', (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    play(i);
  });
}
player?.addEventListener('ended', () => { if (current + 1 < links.length) play(current + 1); });
mark();
