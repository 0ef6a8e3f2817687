// Mounts GraphiQL (with the explorer plugin) on Portico's /graphql page. Loaded from
// this server like the vendored files, so the page's policy needs no inline script.
(function () {
  "use strict";

  var EXAMPLE_QUERY =
    "# Portico's GraphQL API. Staff sign in with the signIn mutation, then put\n" +
    '# {"Authorization": "Bearer <token>"} in the Headers tab below.\n' +
    "#\n" +
    "#   Run:           Ctrl-Enter (or the play button)\n" +
    "#   Autocomplete:  Ctrl-Space\n" +
    "\n" +
    "query {\n" +
    "  viewer {\n" +
    "    kind\n" +
    "  }\n" +
    "}\n";

  // The query, variables and headers can be shared in the page's address.
  var parameters = {};
  window.location.search
    .slice(1)
    .split("&")
    .forEach(function (entry) {
      var eq = entry.indexOf("=");
      if (eq >= 0) {
        parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
          entry.slice(eq + 1)
        );
      }
    });

  function updateURL(data) {
    Object.assign(parameters, data);
    var search = Object.keys(parameters)
      .filter(function (key) {
        return Boolean(parameters[key]);
      })
      .map(function (key) {
        return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]);
      })
      .join("&");
    history.replaceState(null, "", "?" + search);
  }

  var fetchURL = window.location.href.split("?")[0];
  var socketURL = new URL(fetchURL);
  socketURL.protocol = socketURL.protocol === "https:" ? "wss:" : "ws:";
  socketURL.hash = "";

  var fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: socketURL.toString(),
  });

  function PorticoGraphiQL() {
    var query = React.useState(parameters.query || EXAMPLE_QUERY);
    var variables = React.useState(parameters.variables);
    var headers = React.useState(parameters.headers);
    var explorer = React.useMemo(function () {
      return GraphiQLPluginExplorer.explorerPlugin();
    }, []);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      query: query[0],
      variables: variables[0],
      headers: headers[0],
      onEditQuery: function (value) {
        query[1](value);
        updateURL({ query: value });
      },
      onEditVariables: function (value) {
        variables[1](value);
        updateURL({ variables: value });
      },
      onEditHeaders: function (value) {
        headers[1](value);
      },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(PorticoGraphiQL)
  );
})();
