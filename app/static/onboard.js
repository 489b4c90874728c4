// Onboarding form: suggest the slug from the name as one types, until the slug is edited by hand.
(function () {
  var name = document.getElementById("name"), slug = document.getElementById("slug");
  if (!name || !slug) return;
  var edited = slug.value !== "";
  slug.addEventListener("input", function () { edited = slug.value !== ""; });
  name.addEventListener("change", function () {
    if (edited) return;
    fetch(slug.dataset.suggest + "?name=" + encodeURIComponent(name.value), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && !edited) slug.value = data.slug; });
  });
})();
