// Copy buttons: <button class="copy" data-copy="ID"> copies the value of the element ID.
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('button.copy');
  if (!b) return;
  const el = document.getElementById(b.dataset.copy);
  if (!el) return;
  const done = () => { b.textContent = 'Copied'; };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(el.value).then(done, () => { el.select(); document.execCommand('copy'); done(); });
  } else { el.select(); document.execCommand('copy'); done(); }
});
// With htmx, the price updates itself: the manual button is not needed.
document.addEventListener('DOMContentLoaded', () => {
  if (window.htmx) document.querySelectorAll('.nojs').forEach((e) => { e.hidden = true; });
});
