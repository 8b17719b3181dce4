// After a passkey is made on the set-up page (django-otp-webauthn's script announces it),
// go on to the recovery codes, as after setting up the app.
document.addEventListener("otp_webauthn.register_complete", () => {
  const next = document.getElementById("twofactor-next");
  if (next) window.location.assign(next.dataset.url);
});
