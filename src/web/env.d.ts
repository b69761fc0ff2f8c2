// What Vite lets the page import besides modules: stylesheets, bundled into the page's CSS.
declare module '*.css';
