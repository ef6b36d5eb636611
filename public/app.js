// Progressive enhancement only: every page works without this file (CSP: script-src 'self').
(function () {
  'use strict';

  function announce(text) {
    var live = document.getElementById('live-region');
    if (!live) return;
    live.textContent = '';
    // A fresh text node after a tick, so screen readers announce a repeated message too.
    setTimeout(function () { live.textContent = text; }, 50);
  }

  /** The text to copy: a list's items one per line, or the element's text; spaces removed when asked. */
  function textOf(target, compact) {
    var text;
    if (target.tagName === 'OL' || target.tagName === 'UL') {
      text = Array.prototype.map.call(target.querySelectorAll('li'), function (li) { return li.textContent.trim(); }).join('\n');
    } else {
      text = (target.value !== undefined ? target.value : target.textContent).trim();
    }
    return compact ? text.replace(/\s+/g, '') : text;
  }

  /** Clipboard API where allowed (https or localhost), else a selection and execCommand. */
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'visually-hidden';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }

  function flashLabel(button, text) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = text;
    clearTimeout(button._restore);
    button._restore = setTimeout(function () { button.textContent = button.dataset.label; }, 2000);
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-copy-target]');
    if (button) {
      var target = document.getElementById(button.getAttribute('data-copy-target'));
      if (!target) return;
      copy(textOf(target, button.hasAttribute('data-copy-compact'))).then(
        function () {
          flashLabel(button, 'Copied');
          announce(button.getAttribute('data-copied') || 'Copied');
        },
        function () {
          // Copy refused by the browser: select the text so the person can copy it by hand.
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          announce('Selected. Press Ctrl+C or Cmd+C to copy.');
        },
      );
      return;
    }
    if (event.target.closest('[data-print]')) window.print();
  });

  /** A table wider than the screen scrolls sideways; make its box reachable and named for keyboard users. */
  function markScrollableTables() {
    Array.prototype.forEach.call(document.querySelectorAll('.table-wrap'), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        var caption = wrap.querySelector('caption');
        wrap.setAttribute('tabindex', '0');
        wrap.setAttribute('role', 'region');
        wrap.setAttribute('aria-label', (caption && caption.textContent.trim()) || 'Table');
      } else if (wrap.getAttribute('role') === 'region') {
        wrap.removeAttribute('tabindex');
        wrap.removeAttribute('role');
        wrap.removeAttribute('aria-label');
      }
    });
  }
  window.addEventListener('resize', markScrollableTables);

  /**
   * On a phone, CSS shows each row of a data table as a small card, each cell labelled
   * with its column's header. Display changes can drop table semantics in browsers, so the
   * roles are stated explicitly (the responsive-table pattern).
   */
  function makeStackable(table) {
    var headers = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent.trim(); });
    if (!headers.length) return;
    table.classList.add('stackable');
    table.setAttribute('role', 'table');
    Array.prototype.forEach.call(table.querySelectorAll('thead, tbody, tfoot'), function (group) { group.setAttribute('role', 'rowgroup'); });
    Array.prototype.forEach.call(table.querySelectorAll('tr'), function (row) {
      row.setAttribute('role', 'row');
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (cell.tagName === 'TH') cell.setAttribute('role', cell.getAttribute('scope') === 'row' ? 'rowheader' : 'columnheader');
        else cell.setAttribute('role', 'cell');
        if (row.parentNode.tagName !== 'THEAD' && headers[index]) cell.setAttribute('data-label', headers[index]);
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('.table-wrap table'), makeStackable);
    markScrollableTables();
    // Buttons that need this script stay hidden without it.
    Array.prototype.forEach.call(document.querySelectorAll('[data-copy-target][hidden], [data-print][hidden]'), function (el) {
      el.hidden = false;
    });
    // The code fields: keep digits only when a code is pasted with spaces or dashes (the server accepts both).
    Array.prototype.forEach.call(document.querySelectorAll('input[autocomplete="one-time-code"]'), function (input) {
      input.addEventListener('paste', function (event) {
        var pasted = (event.clipboardData || window.clipboardData).getData('text');
        var digits = pasted.replace(/[\s-]/g, '');
        if (/^\d{6}$/.test(digits)) {
          event.preventDefault();
          input.value = digits;
        }
      });
    });
  });
})();
