// Every <time data-local-time datetime="…Z"> is shown in the reader's own time zone, with the
// zone named ("6 Desember 2026 18.50 WIB"), in the page's language. Without scripts the page
// keeps the server's text, in UTC.
(function () {
  "use strict";
  var language = document.documentElement.lang || "en";
  var format;
  try {
    format = new Intl.DateTimeFormat(language, {
      day: "numeric",
      month: "long",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    });
  } catch (error) {
    return;
  }
  document.querySelectorAll("time[data-local-time]").forEach(function (node) {
    var moment = new Date(node.getAttribute("datetime"));
    if (!isNaN(moment.getTime())) {
      node.title = node.textContent;
      node.textContent = format.format(moment);
    }
  });
})();
