/* Starts GraphiQL on /graphql with the studio's API key (session storage) as the Authorization header. */
(function () {
  var root = document.getElementById('graphiql');
  var key = null;
  try {
    key = window.sessionStorage.getItem(root.getAttribute('data-key-storage'));
  } catch (e) {
    key = null;
  }
  var headers = JSON.stringify({ Authorization: 'Bearer ' + (key || '<paste an API key>') }, null, 2);
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultHeaders: headers,
    headers: headers,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers',
    defaultQuery: '# Your project, as the key sees it\n{\n  viewer { role project { name } }\n  models { id sizes { default { width height } } available }\n}\n',
  });
  ReactDOM.createRoot(root).render(element);
})();
