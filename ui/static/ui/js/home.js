// MLflow's client prints links into its own web app, /#/experiments/<id> and /#/experiments/<id>/runs/<run_id>: the
// part after "#" never reaches the server, so this page reads it and opens the project's or the run's page. Any other
// address opens the projects.
(function () {
  "use strict";
  var projects = document.getElementById("opening").getAttribute("data-projects");
  var hash = window.location.hash;
  var run = /^#\/experiments\/[0-9]+\/runs\/([0-9a-f]{32})(?:[/?].*)?$/.exec(hash);
  var experiment = /^#\/experiments\/([0-9]+)(?:[/?].*)?$/.exec(hash);
  var target = projects;
  if (run) {
    target = projects + "runs/" + run[1];
  } else if (experiment) {
    target = projects + "projects/" + experiment[1];
  }
  window.location.replace(target);
})();
