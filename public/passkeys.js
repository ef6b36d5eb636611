// Passkey ceremonies (WebAuthn) for the forms marked data-passkey; the server verifies everything.
// Without JavaScript these buttons do nothing and the code path works as before.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;

  function optionsFrom(form) {
    var csrf = form.querySelector('input[name="_csrf"]').value;
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: '_csrf=' + encodeURIComponent(csrf),
    }).then(function (answer) {
      if (!answer.ok) throw new Error(message(form, 'expired', 'The page has expired. Reload it and try again.'));
      return answer.json();
    });
  }

  function show(form, text) {
    var box = form.querySelector('[data-passkey-error]');
    box.textContent = text;
    box.hidden = false;
  }

  /** A message in the page's language: the form's data-msg-* attribute (views/partials/passkey-messages.hbs), else English. */
  function message(form, name, english) {
    return form.getAttribute('data-msg-' + name) || english;
  }

  /** The browser's words for a cancelled or refused ceremony, in ours. */
  function explain(form, error) {
    if (error && error.name === 'NotAllowedError')
      return message(form, 'cancelled', 'The passkey was not used (cancelled, or it timed out). Try again.');
    if (error && error.name === 'InvalidStateError')
      return message(form, 'registered', 'This passkey is already registered to your account.');
    return (error && error.message) || message(form, 'failed', 'The passkey could not be used. Try again.');
  }

  function start(form) {
    var purpose = form.getAttribute('data-passkey');
    if (!lib || !window.PublicKeyCredential) return show(form, message(form, 'unsupported', 'This browser cannot use passkeys.'));
    optionsFrom(form)
      .then(function (answer) {
        if (answer.error) throw new Error(answer.error);
        if (answer.confirmUrl) {
          window.location.assign(answer.confirmUrl);
          return null;
        }
        return purpose === 'register'
          ? lib.startRegistration({ optionsJSON: answer.options })
          : lib.startAuthentication({ optionsJSON: answer.options });
      })
      .then(function (result) {
        if (!result) return;
        form.querySelector('input[name="response"]').value = JSON.stringify(result);
        if (purpose === 'register') {
          var name = form.querySelector('[data-passkey-name]');
          name.hidden = false;
          form.querySelector('#passkeyName').focus();
        } else {
          form.submit();
        }
      })
      .catch(function (error) {
        show(form, explain(form, error));
      });
  }

  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    var button = form.querySelector('[data-passkey-start]');
    if (button) button.addEventListener('click', function () { start(form); });
  });
})();
