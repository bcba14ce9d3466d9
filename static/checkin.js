// The station page's check-in form: one tap sends one report. After the first submit every
// button is disabled and says so, so a second tap on a slow network sends nothing (the server
// also takes the same form token twice as one report); a page shown again by the back button
// gets a fresh token. Without this script the form works as a plain form.
(function () {
  'use strict';

  function start(form) {
    var tapped = null;
    form.addEventListener('click', function (event) {
      var button = event.target.closest('button[type="submit"]');
      if (button) tapped = button;
    });
    form.addEventListener('submit', function (event) {
      if (form.getAttribute('data-busy') === '1') {
        event.preventDefault();  // already on its way
        return;
      }
      var button = event.submitter || tapped;
      var facility = form.querySelector('select[name="facility"]');
      if (button && button.value === 'broken' && facility && !facility.value) {
        // "Something is broken" must say what: ask before sending (the server refuses it too).
        event.preventDefault();
        var hint = form.querySelector('.facility-hint');
        if (hint) {
          hint.textContent = hint.getAttribute('data-choose') || hint.textContent;
          hint.classList.add('error');
        }
        facility.setAttribute('aria-invalid', 'true');
        facility.focus();
        return;
      }
      form.setAttribute('data-busy', '1');
      var token = form.querySelector('input[name="submission"]');
      if (token) remember(token.value);
      if (button && button.name) {
        // A disabled button sends no value: carry the tapped one in a field of its own.
        var carried = document.createElement('input');
        carried.type = 'hidden';
        carried.name = button.name;
        carried.value = button.value;
        carried.setAttribute('data-carried', '1');
        form.appendChild(carried);
        button.setAttribute('aria-busy', 'true');
      }
      form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      var status = form.querySelector('.checkin-status');
      if (status) status.textContent = form.getAttribute('data-sending') || '';
    });
  }

  // A fresh one-time token, like the server's: 128 random bits (32 hex digits).
  function freshToken() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }

  // Tokens this tab has sent. A page shown again from the back-forward cache or the HTTP cache
  // (the back button) still holds the token of the report it sent: it gets a new one, or its
  // next tap would be taken for a repeat of that report.
  var SENT = 'yz-sent-submissions';

  function sentTokens() {
    try {
      return JSON.parse(window.sessionStorage.getItem(SENT) || '[]');
    } catch (e) {
      return [];
    }
  }

  function remember(token) {
    try {
      var tokens = sentTokens().concat([token]).slice(-20);
      window.sessionStorage.setItem(SENT, JSON.stringify(tokens));
    } catch (e) { /* storage off: the server still takes a repeat as one report */ }
  }

  function renew(form) {
    var token = form.querySelector('input[name="submission"]');
    if (token && sentTokens().indexOf(token.value) !== -1) token.value = freshToken();
  }

  function reset(form) {
    renew(form);
    form.removeAttribute('data-busy');
    form.querySelectorAll('[data-carried]').forEach(function (f) { f.remove(); });
    form.querySelectorAll('button').forEach(function (b) {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    });
    var status = form.querySelector('.checkin-status');
    if (status) status.textContent = '';
  }

  function ready() {
    document.querySelectorAll('form.checkin-form').forEach(function (form) {
      renew(form);
      start(form);
    });
  }

  window.addEventListener('pageshow', function (event) {
    if (event.persisted) document.querySelectorAll('form.checkin-form').forEach(reset);
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
